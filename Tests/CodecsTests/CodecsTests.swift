// Tests for the Codecs target live beside this file.
