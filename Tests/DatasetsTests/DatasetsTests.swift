// Tests for the Datasets target live beside this file.
