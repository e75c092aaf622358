// Tests for the Experiments target live beside this file.
