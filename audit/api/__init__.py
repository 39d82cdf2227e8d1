"""The JSON API (version 1), used by the inspection page's own script and by offline sync."""
