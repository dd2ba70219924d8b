"""The golden matrix of adjac invocations (issue 12); see README.md here."""
