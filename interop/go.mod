// Stand-ins for the original Go inverting proxy and agent, built and run by e2e's GoInteropTest.
// Standard library only: no requirements, nothing to download.
module invertingproxy/interop

go 1.19
