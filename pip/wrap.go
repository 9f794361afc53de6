package pip

// Wrap puts p inside the production stack, outermost first:
//
//	cache (only with WithCache and a positive TTL)
//	metrics (only with WithMetrics)
//	circuit breaker (unless WithBreaker threshold <= 0; default 5 failures, 10 s cool-down)
//	timeout (unless WithTimeout(0); default 1 s)
//	p
//
// The order matters: cache hits cost nothing and never touch the breaker;
// the metrics see both real fetches and the refusals of an open circuit;
// the breaker counts timeouts as failures and its probes cannot hang.
// Capabilities of p (Lister, Describer) stay reachable through As.
func Wrap(p Provider, opts ...Option) Provider {
	c := newConfig(opts)
	if c.timeout > 0 {
		p = NewTimeout(p, c.timeout, opts...)
	}
	if c.threshold > 0 {
		p = NewBreaker(p, opts...)
	}
	p = NewInstrumented(p, opts...)
	if c.cacheSet && c.cacheTTL > 0 {
		p = NewCache(p, opts...)
	}
	return p
}
