"""Rows of the portal's permission matrix, one file per area of pages (`portal_matrix`)."""
