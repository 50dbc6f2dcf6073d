"""Text in and out, made safe: terminal-safe strings, bounded file reads, LaTeX to Unicode, values laid out as text."""
