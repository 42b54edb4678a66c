"""The /quiz page's parts: a participant's flow (participant), the teacher's dashboard (dashboard), ranked
arms (arms) and timed exposure (exposure)."""
