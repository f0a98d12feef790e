package activities

// CheckCompleted exposes checkCompleted to the tests.
var CheckCompleted = checkCompleted
