// Tests for the Reproduction target live beside this file.
