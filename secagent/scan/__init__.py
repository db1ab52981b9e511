"""`secagent scan`: Discover + Analyze every bucket of an account, or every security group of its
region, in-process, concurrently.

- domain.py   what to scan, Discover + Analyze over the resources, the results and exit status
- clients.py  the AWS clients a scan shares between its workers
- render.py   the result as a table or JSON
- cli.py      the command line; `cli_main(argv) -> int` is what `secagent scan` calls
"""
