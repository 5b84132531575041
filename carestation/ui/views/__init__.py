"""One module per screen shown in the main window."""
