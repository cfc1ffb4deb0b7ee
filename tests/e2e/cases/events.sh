# events: timers, event channels, the console ring and blocking
units events events~input
