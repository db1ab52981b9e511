"""A labelled corpus of S3 bucket and EC2 security group configurations: each case states what
AWS's own control definitions say about it (FSBP / CIS 3.0 controls), independent of what
secagent decides.

- ``tests.corpus.cases``: the cases (``Case``, ``CASES``);
- ``tests.corpus.build``: creates one case's bucket on an S3 API (moto, LocalStack, AWS);
- ``tests.corpus.run``: builds many cases, runs secagent's Discover + analysis on each, and
  scores the product's verdicts against the labels (precision / recall per control);
- ``tests.corpus.security_groups``: the EC2 security group cases (EC2.2, .13, .14, .18, .19,
  .53, .54, the retired .22), judged from snapshots built from each case.
"""
