"""A labelled corpus of S3 bucket and EC2 security group configurations: each case states what
AWS's own control definitions say about it (FSBP / CIS 3.0 controls), independent of what
secagent decides.

- ``tests.corpus.cases``: the cases (``Case``, ``CASES``);
- ``tests.corpus.build``: creates one case's bucket on an S3 API (moto, LocalStack, AWS);
- ``tests.corpus.run``: builds many cases, runs secagent's Discover + analysis on each, and
  scores the product's verdicts against the labels (precision / recall per control);
- ``tests.corpus.security_groups``: the EC2 security group cases (EC2.2, .13, .14, .18, .19,
  .53, .54, the retired .22), judged from snapshots built from each case;
- ``tests.corpus.build_security_groups``: creates one such case's group on an EC2 API (with its
  prefix lists, peer groups, network interfaces; a fresh VPC for a default-group case) and
  removes it;
- ``tests.corpus.run_security_groups``: builds every case, runs the real Discover + analysis on
  each, removes what it built, and checks the verdicts against the labels.
"""
