"""The sample portal: a customer site that signs its visitors in and hands the chat widget a
signed JWT, so authenticated chat runs end to end on one machine."""

CUSTOMERS_GROUP = "Portal customers"
# The deployment whose snippet the portal's pages carry (the demo creates it).
DEPLOYMENT_NAME = "Sample portal"
