"""What the training did: evaluations at the end of a course, six-month follow-ups, the funnel, current first aiders."""
