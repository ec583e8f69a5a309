"""The admin UI's pages, one module per area; each handler calls the control plane's services directly."""
