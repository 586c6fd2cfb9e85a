"""Domain writes shared by mutations and the assistant, run inside one transaction."""
