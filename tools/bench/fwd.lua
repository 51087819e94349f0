-- wrk script: absolute-form requests, as an application behind HTTP_PROXY sends them.
wrk.method = "GET"
wrk.path = "http://" .. os.getenv("TARGET") .. "/"
wrk.headers["x-user-id"] = "user-42"
