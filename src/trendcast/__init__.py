"""trendcast."""
