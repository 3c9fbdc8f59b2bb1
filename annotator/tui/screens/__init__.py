"""The review UI's screens: one module per screen or modal."""
