// Package pdp is the decision engine: it runs compiled policy bundles and
// nothing else. A Policy (Rego modules emitted by xacml/compile) is prepared
// once and then evaluated many times; Activate swaps the active policy
// atomically, so in-flight decisions finish on the one they started with
// and no lock is held while a new policy compiles.
//
// The engine never imports the authoring language: the PDP of a service
// runs what the PAP compiled, and cmd wires xacml/compile in front of it
// only when it is given policy files.
package pdp
