"""`provision demo`: replay documented attacks on the local stack and watch them raise their alerts.

`techniques` (the built-in catalogue and the records each produces), `stack` (the stack's parts on the emulator),
`attack` (send, wait for the index, run the monitors), `alerts` (monitors executed as the Alerting plugin would,
alerts published to the topic), `findings` (a scanner report through the importer into Security Hub).
"""
