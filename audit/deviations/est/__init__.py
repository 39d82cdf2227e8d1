"""EST groups: landlords (members) and partners who share a weekly situation picture and follow hot spots."""
