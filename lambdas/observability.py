"""The one Powertools logger, tracer and metrics shared by every handler."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()  # handlers use capture_response=False: results hold bucket policies
metrics = Metrics()
