"""Speech to text: a small protocol, backends chosen by settings, and a streaming transcriber."""
