// Tests for the Personalisation target live beside this file.
