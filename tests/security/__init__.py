"""Security rules stated as behaviour: what hostile input and designer code cannot do."""
