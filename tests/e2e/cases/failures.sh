# failures: guests that fail are crashed with the facts
units crash fault
