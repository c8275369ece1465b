-- wrk script for POST /{app}/instances/{instance}/autoscale (bench/server_bench.py)
wrk.method = "POST"
wrk.body = '{"min":1,"max":4}'
wrk.headers["Content-Type"] = "application/json"
