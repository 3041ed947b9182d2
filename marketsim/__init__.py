"""marketsim: an agent-based market simulator for marketing and sales strategy."""
