"""Issue 20: bad inputs, hostile files and interrupted writes at every public entry point."""
