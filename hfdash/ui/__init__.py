"""The only package besides pages/ that imports streamlit: session accessors, cached resources, widgets."""
