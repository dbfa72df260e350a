// The server entry; the HTTP server and the worker supervisor arrive with the next issues.
console.error('PollMasters: the server is not built yet.');
process.exitCode = 1;
