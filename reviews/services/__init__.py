"""The bureau's services, by stage of the process; each action is one function of its stage's
module, built from the shared steps in `steps`."""
