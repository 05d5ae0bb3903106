"""Reviewing flagged forms: the decision log (`store`), decisions applied to results
and re-checked (`decisions`), an output folder as a review queue (`workspace`), the
page images (`pages`), the local web app (`app`), gold from decided forms (`gold`)
and the static pages (`static`)."""
