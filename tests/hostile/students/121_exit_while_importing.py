# expect: error: importing the module ended the process (exit code 0
import os

os._exit(0)
