// Tests for the Training target live beside this file.
