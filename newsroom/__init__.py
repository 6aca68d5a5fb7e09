"""What readers asked, for the newsroom: the question log (``newsroom.log``) and the report built from it."""
