"""OneRoster 1.0/1.1/1.2 and OneRoster+ CSV loader."""
