"""The full-screen terminal app. Importing this package imports nothing heavy."""
