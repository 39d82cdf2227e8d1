"""Health endpoints for load balancers and orchestrators: liveness (`/healthz`) and readiness (`/readyz`)."""
