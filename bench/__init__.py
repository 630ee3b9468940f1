"""`make bench`: the portal's performance figures, measured against the
PagerDuty sandbox in one run and printed as ratios (README, Performance)."""
