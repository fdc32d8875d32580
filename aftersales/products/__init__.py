"""Product categories and models, the installed base and its warranty, parts."""
