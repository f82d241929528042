package server

// Owner exposes the gateway's routing to the external tests.
var Owner = owner
