"""Certificates: issued from approved passing certification inspections, printed as signs, verified publicly."""
