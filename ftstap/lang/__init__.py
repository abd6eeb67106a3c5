"""Pass 1: preprocessing, lexing and parsing the stap language."""
