-- a hooks file with a syntax error on line 3
function on_epoch_end(run)
  if run.epoch > 2 then run:stop("enough") 
end
