module banyan/candidate

go 1.27
