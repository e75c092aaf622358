// Tests for the NN target live beside this file.
