-- top-level code runs in the sandbox at check time: os is not there
local t = os.time()
