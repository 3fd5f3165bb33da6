"""The bureau's pages, by stage of the process (routed in reviews/urls.py)."""
