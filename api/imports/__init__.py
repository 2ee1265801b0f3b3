"""Files people drop to be imported (the PAF): read at the edge, checked by the domain."""
